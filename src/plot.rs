//! Training plots: decision boundaries and loss/accuracy curves.
