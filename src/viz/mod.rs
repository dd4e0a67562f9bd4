//! Drawing expression graphs: a DOT writer and SVG/PNG rendering.
