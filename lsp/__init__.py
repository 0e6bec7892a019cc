"""Language server adapter (pygls). Arrives with the language-server issue."""
