"""A real HTTP server on 127.0.0.1 whose routes the tests set, and the one fetch policy that may reach it."""
import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workbench.extract import FetchPolicy


class Site:
    """routes: path -> (status, headers, body) where body is bytes or a generator of bytes (streamed).

    `requests` records (path, Host header); `sent` counts the body bytes each path actually wrote.
    """

    def __init__(self):
        self.routes, self.requests, self.sent = {}, [], {}
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def trickle(byte=b"x", every=0.1):
    while True:
        yield byte
        time.sleep(every)


def endless(chunk=b"y" * 65536):
    while True:
        yield chunk


@pytest.fixture
def site():
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            with state.lock:
                state.requests.append((self.path, self.headers.get("Host")))
            status, headers, body = state.routes.get(path, (404, {"Content-Type": "text/plain"}, b"not found"))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if isinstance(body, bytes) and "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            parts = [body] if isinstance(body, bytes) else body
            sent = 0
            try:
                for part in parts:
                    self.wfile.write(part)
                    self.wfile.flush()
                    sent += len(part)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                with state.lock:
                    state.sent[path] = state.sent.get(path, 0) + sent

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    state.port = server.server_address[1]
    state.base_url = f"http://127.0.0.1:{state.port}"
    # The test policy: this one server (address and port) is allowed; everything else stays strict.
    state.policy = FetchPolicy(allowed_addresses=(f"127.0.0.1:{state.port}",), timeout_s=5)
    yield state
    server.shutdown()
    server.server_close()


FAQ_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>帮助中心 Help</title></head><body>
<nav><a href="/">首页</a> <a href="/about">关于我们</a> <a href="/login">登录</a></nav>
<main><article><h1>常见问题</h1>
<p>这里整理了用户最常问的问题，我们会定期更新本页面，欢迎随时查看。</p>
<h2>如何重置密码？</h2><p>打开“设置”页面，点击“忘记密码”，然后按照提示操作即可，整个过程大约三分钟。</p>
<h2>How do I cancel my order?</h2>
<p>Open My orders, choose the order and click Cancel. Refunds take three to five days.</p>
<h3>退款多久到账？</h3><p>一般在三到五个工作日内原路退回，节假日顺延。</p>
</article></main>
<footer>版权所有 © 2024 示例公司 · 京ICP备12345678号</footer></body></html>"""


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data)
