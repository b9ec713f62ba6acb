"""Code every service of the order saga uses; shipped to Lambda as the shared layer."""
