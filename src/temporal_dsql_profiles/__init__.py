"""behaviour_profiles."""
