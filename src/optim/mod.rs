//! Optimizers: SGD (with momentum and schedules) and Adam/AdamW.
