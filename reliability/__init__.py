"""Reliability suite (issue 10): fuzzing, authorization and customer-data matrices, faults; `make reliability`."""
