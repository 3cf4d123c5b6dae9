"""Developer tooling: the local and AWS dev stacks, their CLI (`copilot dev`), the images, and the end-to-end demo (`make demo`)."""
