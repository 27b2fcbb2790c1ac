"""Pure encoders and decoders: values in, bytes or text out; no sockets, no files."""
