"""Filing workflow: receive a case submission, check it, seal it into an AIP, catalogue it."""
