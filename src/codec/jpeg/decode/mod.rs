//! The streaming JPEG decoder (being written).
