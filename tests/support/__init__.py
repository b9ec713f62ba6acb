"""What the tests share: in-memory fakes of the ports, the stack's test tools, the fault suite."""
