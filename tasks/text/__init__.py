"""Text keys, word counts and dates: how texts are compared and dates read, written once."""
