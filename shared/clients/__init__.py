"""HTTP clients between services: discovery, retries, circuit breaking, in-process transports."""
