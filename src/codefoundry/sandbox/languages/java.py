"""Java 17: stdio only; ``public class Main``; compiled once per distinct source and cached."""

from __future__ import annotations

from codefoundry.sandbox.languages.base import Language

LANGUAGE = Language(
    name="java",
    styles=("stdio",),
    toolchain=("javac", "java"),
    source="Main.java",
    compile=(
        "javac",
        "-J-Xmx512m",
        "-J-XX:-UsePerfData",
        "-J-XX:TieredStopAtLevel=1",
        "-d",
        "{out}",
        "{src}",
    ),
    run=(
        "java",
        "-Xmx{mem}m",
        "-Xss64m",
        "-XX:-UsePerfData",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        "{art}",
        "Main",
    ),
    as_mode="none",  # the JVM reserves far more address space than it uses; its heap is capped by -Xmx
    compile_as_mode="none",
    compile_time_s=120.0,
    notes="stdio only; the class must be named Main",
)
