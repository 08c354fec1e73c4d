"""Looking at what flows, without consuming it: taps on topics and queues, `pylon tail`."""
