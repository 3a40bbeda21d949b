"""The reliability suite: real `intercoder serve` processes under crashes, load, faults and
hostile input (issue 19); each part is a command, `python -m tests.reliability.<part>`."""
