"""The command line, ``intercoder``: thin typer commands over the application layer."""
