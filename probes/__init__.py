"""Layer 1: pipeline health probes (Ollama, database, disk, PM2, HTTP...).

Each probe type will live in its own module behind one Probe interface; this
package is reserved for them so that `mechanic` (Layer 2, repair) stays apart.
"""
