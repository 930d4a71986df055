# The display of an HVM domain's QEMU, for hvm-lib.sh's checks: QMP's
# screendump into a PPM file, read back as its size and a pixel function.
import json
import socket
import sys


def screendump(sock, ppm):
    """QMP screendump of the display at QMP socket sock into ppm; returns
    (width, height, px) with px(x, y) the (r, g, b) tuple there."""
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    f = s.makefile("rw")
    f.readline()
    for cmd in ({"execute": "qmp_capabilities"},
                {"execute": "screendump", "arguments": {"filename": ppm}}):
        f.write(json.dumps(cmd) + "\n")
        f.flush()
        while True:
            a = json.loads(f.readline())
            if "return" in a:
                break
            if "error" in a:
                sys.exit("QMP %s: %s" % (cmd["execute"], a["error"]))
    data = open(ppm, "rb").read()
    fields, pos = [], 0
    while len(fields) < 4:  # P6 W H MAX, then one whitespace byte
        while data[pos:pos + 1].isspace():
            pos += 1
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    if fields[0] != b"P6":
        sys.exit("screendump: not a P6 PPM (%r)" % fields[0])
    w, h = int(fields[1]), int(fields[2])

    def px(x, y):
        o = pos + 3 * (y * w + x)
        return tuple(data[o:o + 3])
    return w, h, px
