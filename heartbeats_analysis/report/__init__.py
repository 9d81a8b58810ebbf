"""What notebooks write and the brief shows: claims, the notebook context, plot style, brief rendering."""
