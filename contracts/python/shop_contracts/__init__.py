"""The event contract of the order saga: one pydantic model per detail-type inside one envelope.

Published on its own as the `shop-saga-contracts` distribution (contracts/pyproject.toml), so that a team
consuming the bus reads events with the very models the producers write them with. Its version follows
the contract: a new event or optional field is a minor version, an incompatible change a new
`eventVersion` of that event and a major version (docs/consumers.md, "Versioning").
"""

__version__ = "1.0.0"
