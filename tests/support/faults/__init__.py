"""The fault suite: fault injection against a deployed test stack (`injectors`), the design's invariants
checked from what a run left (`checker`), and the run that ties them (`driver`; `python -m tests.support.faults`)."""
