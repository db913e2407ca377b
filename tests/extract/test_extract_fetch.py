"""URL safety against a real HTTP server on 127.0.0.1: every refusal with the default (strict) policy, and
real fetches with a test policy that allows that one server only."""
import time

import pytest

from tests.extract.conftest import FAQ_HTML, endless, gzip_bytes, trickle
from tests.extract.documents import text_pdf
from workbench.extract import STRICT, FetchPolicy, address_kind, fetch, fetch_policy_for, read_url, save_fetch_settings
from workbench.problems import Problem, ReadError

HTML = {"Content-Type": "text/html; charset=utf-8"}


def refused(url, policy=STRICT) -> Problem:
    with pytest.raises(ReadError) as caught:
        fetch(url, policy)
    (problem,) = caught.value.problems
    assert problem.message_en and problem.message_zh and "{" not in problem.message_zh
    return problem


def never_resolve(host, port):
    raise AssertionError(f"{host} must be refused before any DNS lookup")


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"),
    ("172.16.5.4", "private"), ("192.168.1.1", "private"), ("fc00::1", "private"), ("169.254.1.1", "link-local"),
    ("fe80::1", "link-local"), ("224.0.0.251", "multicast"), ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"),
    ("::", "unspecified"), ("240.0.0.1", "reserved"), ("100.64.0.1", "non-public"),
    ("169.254.169.254", "cloud metadata"), ("fd00:ec2::254", "cloud metadata"), ("100.100.100.200", "cloud metadata"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "cloud metadata"), ("2002:7f00:1::", "loopback"),
    ("64:ff9b::a9fe:a9fe", "cloud metadata"), ("8.8.8.8", None), ("2606:4700:4700::1111", None),
])
def test_every_internal_address_kind_is_recognised(address, kind):
    assert address_kind(address) == kind


def test_loopback_url_is_refused_by_the_default_policy(site):
    site.routes["/faq.html"] = (200, HTML, FAQ_HTML.encode())
    problem = refused(site.url("/faq.html"))
    assert problem.code == "extract_url_blocked" and problem.params["kind"] == "loopback"
    assert "127.0.0.1" in problem.message_en and "本机回环" in problem.message_zh
    assert site.requests == []  # refused before connecting


@pytest.mark.parametrize("url", ["http://localhost/", "http://[::1]/", "http://0.0.0.0/", "http://10.0.0.8/x",
                                 "http://2130706433/", "http://169.254.169.254/latest/meta-data/",
                                 "http://[fd00:ec2::254]/latest/meta-data/"])
def test_internal_addresses_in_the_url_are_refused(url):
    assert refused(url).code == "extract_url_blocked"


@pytest.mark.parametrize("host", ["metadata.google.internal", "METADATA.google.internal.", "metadata"])
def test_metadata_host_names_are_refused_before_resolving(host):
    problem = refused(f"http://{host}/computeMetadata/v1/", FetchPolicy(allow_private=True, resolver=never_resolve))
    assert problem.params["kind"] == "cloud metadata"


def test_a_public_looking_name_that_resolves_to_loopback_is_refused(site):
    site.routes["/faq.html"] = (200, HTML, FAQ_HTML.encode())
    policy = FetchPolicy(resolver=lambda host, port: ["127.0.0.1"])
    problem = refused(f"http://faq.example.com:{site.port}/faq.html", policy)
    assert problem.params["host"] == "faq.example.com" and problem.params["address"] == "127.0.0.1"
    assert site.requests == []


def test_one_internal_address_among_public_ones_refuses_the_host():
    policy = FetchPolicy(resolver=lambda host, port: ["93.184.216.34", "10.0.0.5"])
    assert refused("http://mixed.example.com/", policy).params["address"] == "10.0.0.5"


def test_the_checked_address_is_the_one_connected_to(site):
    """DNS rebinding: the name is resolved once per hop and the request goes to that checked address."""
    site.routes["/faq.html"] = (200, HTML, FAQ_HTML.encode())
    calls = []

    def resolver(host, port):
        calls.append(host)
        return ["127.0.0.1"]  # a real lookup of this name would fail: only the checked address can work

    policy = FetchPolicy(allowed_addresses=(f"127.0.0.1:{site.port}",), resolver=resolver)
    result = fetch(f"http://rebind.invalid:{site.port}/faq.html", policy)
    assert result.status == 200 and calls == ["rebind.invalid"]
    assert site.requests == [("/faq.html", f"rebind.invalid:{site.port}")]  # the Host header names the host


def test_a_second_answer_of_the_resolver_is_never_used(site):
    """First answer public (checked, allowed), second answer loopback: nothing ever reaches 127.0.0.1."""
    answers = [["8.8.8.8"], ["127.0.0.1"]]
    policy = FetchPolicy(resolver=lambda host, port: answers.pop(0), timeout_s=1)
    with pytest.raises(ReadError) as caught:
        fetch(f"http://rebind.invalid:{site.port}/faq.html", policy)
    assert caught.value.problems[0].code in ("extract_url_unreachable", "extract_url_timeout")
    assert answers == [["127.0.0.1"]] and site.requests == []


@pytest.mark.parametrize("target", ["http://127.0.0.1:{other}/", "http://169.254.169.254/latest/meta-data/",
                                    "http://[::1]:{port}/faq.html", "file:///etc/passwd"])
def test_a_redirect_from_an_allowed_server_to_an_internal_address_is_refused(site, target):
    target = target.format(port=site.port, other=site.port + 1 if site.port < 65535 else 1)
    site.routes["/go"] = (302, {"Location": target}, b"")
    problem = refused(site.url("/go"), site.policy)
    assert problem.code in ("extract_url_blocked", "extract_url_scheme")
    assert [path for path, _ in site.requests] == ["/go"]


def test_allow_private_reaches_the_intranet_but_never_the_metadata_service(site):
    site.routes["/faq.html"] = (200, HTML, FAQ_HTML.encode())
    site.routes["/steal"] = (301, {"Location": "http://169.254.169.254/latest/meta-data/iam/"}, b"")
    assert fetch(site.url("/faq.html"), FetchPolicy(allow_private=True)).status == 200
    assert refused(site.url("/steal"), FetchPolicy(allow_private=True)).params["kind"] == "cloud metadata"


@pytest.mark.parametrize("url, code", [
    ("file:///etc/passwd", "extract_url_scheme"), ("ftp://ftp.example.com/faq.txt", "extract_url_scheme"),
    ("gopher://example.com/", "extract_url_scheme"), ("http://user:secret@example.com/", "extract_url_invalid"),
    ("http://example.com:99999/", "extract_url_invalid"), ("http:///nohost", "extract_url_invalid"),
])
def test_other_schemes_and_malformed_urls_are_refused(url, code):
    problem = refused(url, FetchPolicy(resolver=never_resolve))
    assert problem.code == code
    assert "secret" not in problem.located() + problem.message_zh  # a password in the URL is never echoed


@pytest.mark.parametrize("entry", ["localhost", "127.0.0.1:port", "10.0.0.0/33"])
def test_exceptions_must_be_addresses_or_networks(entry):
    with pytest.raises(ValueError, match="不是有效的地址"):
        FetchPolicy(allowed_addresses=(entry,))


def test_the_settings_switch_is_off_by_default_and_only_widens_private_targets(ws):
    assert fetch_policy_for(ws) == STRICT and not STRICT.allow_private
    save_fetch_settings(ws, True)
    assert fetch_policy_for(ws).allow_private
    save_fetch_settings(ws, False)
    assert fetch_policy_for(ws) == STRICT


# --- real fetches from the local server under the test policy ------------------------------------------
def test_a_page_is_fetched_and_its_main_content_read(site):
    site.routes["/faq.html"] = (200, HTML, FAQ_HTML.encode())
    document = read_url(site.url("/faq.html"), site.policy)
    assert document.kind == "html" and document.source == site.url("/faq.html")
    assert "## 如何重置密码？" in document.text and "How do I cancel my order?" in document.text
    assert "京ICP备" not in document.text and "登录" not in document.text  # navigation and footer left out
    assert document.title == "常见问题"  # trafilatura prefers the page's own heading to <title>


def test_a_gbk_page_without_a_charset_header_is_decoded(site):
    page = FAQ_HTML.replace('charset="utf-8"', 'charset="gbk"').replace(" © ", " ").replace(" · ", " ")
    site.routes["/gbk.html"] = (200, {"Content-Type": "text/html"}, page.encode("gbk"))
    document = read_url(site.url("/gbk.html"), site.policy)
    assert "退款多久到账？" in document.text and document.meta["encoding"] == "gbk"


def test_pdf_and_gzip_and_redirects_within_the_allowed_server(site):
    site.routes["/doc.pdf"] = (200, {"Content-Type": "application/pdf"}, text_pdf(["问：能开发票吗？\n答：可以。"]))
    site.routes["/old"] = (301, {"Location": "/new"}, b"")
    site.routes["/new"] = (302, {"Location": site.url("/doc.pdf")}, b"")
    site.routes["/zipped"] = (200, {**HTML, "Content-Encoding": "gzip"}, gzip_bytes(FAQ_HTML.encode()))
    document = read_url(site.url("/old"), site.policy)
    assert document.kind == "pdf" and "能开发票吗" in document.text
    assert document.meta["final_url"] == site.url("/doc.pdf") and len(document.meta["redirects"]) == 2
    assert "退款多久到账" in read_url(site.url("/zipped"), site.policy).text


def test_http_errors_are_clear(site):
    problem = refused(site.url("/missing"), site.policy)
    assert problem.code == "extract_url_status" and "404" in problem.message_en and "404" in problem.message_zh
    site.routes["/boom"] = (500, HTML, b"oops")
    assert refused(site.url("/boom"), site.policy).params["status"] == 500


def test_too_many_redirects(site):
    site.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    problem = refused(site.url("/loop"), site.policy)
    assert problem.code == "extract_url_redirects" and problem.params["limit"] == 5
    assert len(site.requests) == 6  # the first request and five redirects, then it stops


@pytest.mark.parametrize("content_type", ["image/png", "application/octet-stream", "application/zip", "video/mp4"])
def test_other_content_types_are_refused_before_the_body_is_read(site, content_type):
    site.routes["/file"] = (200, {"Content-Type": content_type}, endless())
    problem = refused(site.url("/file"), site.policy)
    assert problem.code == "extract_url_content_type" and content_type in problem.message_en


def test_a_2_gb_download_is_refused_from_its_length_without_reading_it(site):
    site.routes["/huge"] = (200, {"Content-Type": "text/plain", "Content-Length": str(2 << 30)}, endless())
    started = time.monotonic()
    problem = refused(site.url("/huge"), site.policy)
    assert problem.code == "extract_url_too_large" and "Content-Length" in problem.message_en
    assert time.monotonic() - started < 3


def test_an_endless_download_is_cut_off_at_the_limit(site):
    site.routes["/endless"] = (200, {"Content-Type": "text/plain"}, endless())  # no length: read until closed
    started = time.monotonic()
    problem = refused(site.url("/endless"), site.policy)  # the default 10 MB limit
    assert problem.code == "extract_url_too_large" and problem.params["limit"] == 10
    assert time.monotonic() - started < 5
    time.sleep(0.3)
    assert site.sent["/endless"] < 64 << 20  # the server was stopped long before 2 GB


def test_a_compression_bomb_stops_at_the_limit(site):
    bomb = gzip_bytes(b"\0" * (50 << 20))
    site.routes["/bomb"] = (200, {"Content-Type": "text/plain", "Content-Encoding": "gzip"}, bomb)
    policy = FetchPolicy(allowed_addresses=site.policy.allowed_addresses, max_bytes=1 << 20)
    problem = refused(site.url("/bomb"), policy)
    assert problem.code == "extract_url_too_large"


def test_a_trickling_server_meets_the_total_time_limit(site):
    site.routes["/slow"] = (200, {"Content-Type": "text/plain"}, trickle())
    policy = FetchPolicy(allowed_addresses=site.policy.allowed_addresses, timeout_s=1)
    started = time.monotonic()
    problem = refused(site.url("/slow"), policy)
    assert problem.code == "extract_url_timeout" and time.monotonic() - started < 2.5


def test_a_closed_port_is_unreachable():
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    problem = refused(f"http://127.0.0.1:{port}/", FetchPolicy(allowed_addresses=(f"127.0.0.1:{port}",)))
    assert problem.code == "extract_url_unreachable"
