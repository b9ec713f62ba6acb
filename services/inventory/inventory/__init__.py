"""The inventory service: keeps stock, reserves all lines of a paid order or none, releases once."""
