"""The local development stack (`copilot dev`): stand-ins as real processes, stopped by PID."""
