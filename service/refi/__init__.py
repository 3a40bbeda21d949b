"""REFI-QDA projects into and out of the store, shared by the command line and the API."""
