"""`python -m engine ...`: the argparse front end and its command modules."""
