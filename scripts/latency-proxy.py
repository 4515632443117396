"""A TCP proxy on loopback that adds a fixed latency to every answer, as a distant store has:
the first bytes of each response wait DELAY_MS. For measuring, by hand, what a run does when
each request costs a round trip (moto on loopback answers in about a millisecond; S3 across a
region takes tens). No test uses it.

    python3 scripts/latency-proxy.py 9300 127.0.0.1:9222 30 &    # listen, target, delay (ms)
    AWS_ENDPOINT_URL=http://127.0.0.1:9300 thumbnail-maker s3://photos/ -o s3://thumbs/
"""
import socket
import sys
import threading
import time


def pump(source, sink, waiting, delay, delayed):
    """Copies source to sink. On the way to the client (`delayed`), the first chunk after the
    client spoke waits `delay` seconds; on the way to the server, each chunk marks that."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            if delayed and waiting.is_set():
                time.sleep(delay)
                waiting.clear()
            elif not delayed:
                waiting.set()
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(port, target, delay):
    host, target_port = target.rsplit(":", 1)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(256)
    while True:
        client, _ = listener.accept()
        server = socket.create_connection((host, int(target_port)))
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        waiting = threading.Event()
        threading.Thread(target=pump, args=(client, server, waiting, delay, False), daemon=True).start()
        threading.Thread(target=pump, args=(server, client, waiting, delay, True), daemon=True).start()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2], float(sys.argv[3]) / 1000)
