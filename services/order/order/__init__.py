"""The order service: takes orders over HTTP and confirms or cancels them as the saga's events arrive."""
