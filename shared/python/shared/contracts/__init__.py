"""The event contract (v1) of the order saga: one pydantic model per detail-type inside one envelope."""
