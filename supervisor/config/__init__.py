"""The registry: parsed once at the edge into frozen, validated models."""
