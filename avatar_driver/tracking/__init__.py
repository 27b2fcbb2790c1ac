"""Face tracking: the MediaPipe model file, the landmarker stage, head pose maths."""

from .model import MODEL_SHA256, MODEL_URL, ModelInfo, fetch_model, resolve_model

__all__ = ["MODEL_SHA256", "MODEL_URL", "ModelInfo", "fetch_model", "resolve_model"]
