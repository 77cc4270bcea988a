"""CSV import (reading, mapping, running on the bulk queue) and the submissions export."""
