"""The fold from a saga's events to its view."""
