"""The notifications team's consumer of the shop's bus (an example of a team outside the shop)."""
