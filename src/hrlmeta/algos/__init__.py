"""Learning algorithms, one readable module each."""
