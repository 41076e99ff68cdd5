"""Ground-truth simulator and the simulation benchmark that scores a whole pipeline run against the planted answer."""
