"""View models: one builder per resource, in synchronous code (run off the event loop),
rendered by both the HTML page and the JSON API so the two cannot drift."""
