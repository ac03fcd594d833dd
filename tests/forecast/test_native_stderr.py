"""TensorFlow's C++ start-up lines are dropped from descriptor 2; every other line passes, in order."""
from __future__ import annotations

import os
import subprocess
import sys

from engine.forecast.native_stderr import filtered_native_stderr


def test_only_the_startup_noise_is_dropped(capfd):
    with filtered_native_stderr():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"I0000 00:00:1796624808.014216 4163 port.cc:153] oneDNN custom operations are on. You may "
                    b"see slightly different numerical results\n")
        os.write(2, b"E0000 a real failure\nsecond ")
        os.write(2, b"part\nno newline at the end")
    os.write(2, b"\nafter the block\n")
    err = capfd.readouterr().err
    assert err == "E0000 a real failure\nsecond part\nno newline at the end\nafter the block\n"


def test_a_failing_block_restores_descriptor_2():
    code = "\n".join([
        "import os, sys", "from engine.forecast.native_stderr import filtered_native_stderr", "try:",
        "    with filtered_native_stderr():", "        os.write(2, b'inside\\n')",
        "        print('python', file=sys.stderr)", "        raise KeyError('x')", "except KeyError:", "    pass",
        "os.write(2, b'outside\\n')"])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert r.returncode == 0 and r.stderr == "inside\npython\noutside\n"


def test_a_long_output_passes_whole(capfd):
    line = b"x" * 300_000  # several pipe buffers, one line
    with filtered_native_stderr():
        os.write(2, line + b"\n")
        os.write(2, b"oneDNN custom operations are on\n")
    assert capfd.readouterr().err == line.decode() + "\n"
