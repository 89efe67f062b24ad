#!/usr/bin/python3
"""Loopback origin of the hostile set for hostile_memory_bench.sh and
throttle_bench.sh.

Usage: hostile_origin.py IMAGE_DIR PORT_FILE

Serves on 127.0.0.1 (a free port, written to PORT_FILE once listening):
  /img/<name>           files of IMAGE_DIR (image/jpeg)
  /endless/<n>          a chunked body of 64 KiB chunks, 2 GiB in all
  /bomb/<n>             Content-Encoding: gzip, ~256 KB that inflate to 256 MiB of zeros
  /interlaced/<n>.png   a 7990x7990 RGBA Adam7-interlaced PNG, ~250 KB (transparent black)
  /throttle/<name>      429 + Retry-After: 2 to the first request of each path, then
                        IMAGE_DIR's <name> (a CDN that throttles first requests)
"""
import http.server
import os
import socketserver
import struct
import sys
import threading
import zlib

SEEN = set()  # /throttle/ paths answered 429 once
SEEN_LOCK = threading.Lock()


def gzip_of_zeros(size):
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [z.compress(block) for _ in range(size >> 20)]
    parts.append(z.flush())
    return b"".join(parts)


def interlaced_png(width, height):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    z = zlib.compressobj(9)
    parts = []
    # Adam7: (first row, first column, row step, column step) of each pass.
    for y0, x0, dy, dx in ((0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4),
                           (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)):
        cols = (width - x0 + dx - 1) // dx
        rows = (height - y0 + dy - 1) // dy
        if cols <= 0 or rows <= 0:
            continue
        row = bytes(1 + cols * 4)
        for _ in range(rows):
            parts.append(z.compress(row))
    parts.append(z.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 1)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) +
            chunk(b"IEND", b""))


IMAGE_DIR = sys.argv[1]
BOMB = gzip_of_zeros(256 << 20)
PNG = interlaced_png(7990, 7990)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, body, content_type, extra=()):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        try:
            if self.path.startswith("/img/"):
                with open(os.path.join(IMAGE_DIR, os.path.basename(self.path)), "rb") as f:
                    self.send_body(f.read(), "image/jpeg")
            elif self.path.startswith("/throttle/"):
                # 429 + Retry-After: 2 to the first request of each path, then the image.
                with SEEN_LOCK:
                    first = self.path not in SEEN
                    SEEN.add(self.path)
                if first:
                    self.send_response(429)
                    self.send_header("Retry-After", "2")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    name = os.path.basename(self.path.split("?")[0])
                    with open(os.path.join(IMAGE_DIR, name), "rb") as f:
                        self.send_body(f.read(), "image/jpeg")
            elif self.path.startswith("/bomb/"):
                self.send_body(BOMB, "image/png", [("Content-Encoding", "gzip")])
            elif self.path.startswith("/interlaced/"):
                self.send_body(PNG, "image/png")
            elif self.path.startswith("/endless/"):
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                piece = b"%x\r\n" % (64 << 10) + b"x" * (64 << 10) + b"\r\n"
                for _ in range((2 << 30) // (64 << 10)):
                    self.wfile.write(piece)
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.send_error(404)
        except (BrokenPipeError, ConnectionResetError, FileNotFoundError):
            self.close_connection = True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        pass  # the crawler hangs up on endless bodies and bombs: expected


server = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
