"""UI strings of the Serve page and the `serve` CLI (merged into workbench.i18n.STRINGS)."""

STRINGS: dict[str, tuple[str, str]] = {
    "serve.nav": ("Serve as API", "发布 API"),
    "serve.title": ("Publish a model as an API", "将模型发布为 API"),
    "serve.caption": ("Serve a tuned run (base + adapter), a merged model or a bundled model on an OpenAI-compatible "
                      "/v1/chat/completions endpoint with streaming. Every call needs the API key made at start. "
                      "On CPU one answer is generated at a time; other requests wait their turn.",
                      "将微调结果（基础模型 + 适配器）、合并后的模型或内置模型发布为 OpenAI 兼容的 "
                      "/v1/chat/completions 接口（支持流式输出）。每次调用都需要启动时生成的 API 密钥。"
                      "在 CPU 上一次只生成一个回答，其他请求排队等待。"),
    "serve.model": ("Model", "模型"),
    "serve.model_help": ("A finished training run (run-…), a model folder you added, or a bundled model.",
                         "已完成的训练（run-…）、已添加的模型文件夹或内置模型。"),
    "serve.no_models": ("No model is available: add one on the Models page or finish a training run.",
                        "没有可用的模型：请在“模型”页面添加，或先完成一次训练。"),
    "serve.host": ("Host (address to listen on)", "监听地址"),
    "serve.host_help": ("127.0.0.1: only this machine can call it. 0.0.0.0: every machine that can reach this one.",
                        "127.0.0.1：只有本机可以调用。0.0.0.0：所有能访问本机的机器都可以调用。"),
    "serve.port": ("Port (0 = any free port)", "端口（0 = 自动选择空闲端口）"),
    "serve.public_warning": ("Host {host} makes the API reachable from other machines. Anyone with the key can use "
                             "the model, and the connection is plain HTTP (no encryption): put it behind HTTPS or "
                             "use it only on a trusted network.",
                             "监听地址 {host} 会让其他机器也能访问此 API。任何持有密钥的人都能使用该模型，且连接是"
                             "未加密的 HTTP：请放在 HTTPS 代理之后，或只在可信网络中使用。"),
    "serve.start": ("Start server", "启动服务"),
    "serve.starting": ("Loading the model and starting the server…", "正在加载模型并启动服务……"),
    "serve.started": ("Serving {model} at {url}", "{model} 已发布，地址 {url}"),
    "serve.key_once": ("Copy the API key now: it is shown only this once and is not stored (only its hash is). "
                       "Lost it? Stop this server and start a new one.",
                       "请立即复制 API 密钥：它只显示这一次，且不会被保存（只保存其哈希值）。"
                       "如果丢失，请停止此服务并重新启动一个。"),
    "serve.key_label": ("API key (set it in your shell; the snippets read it from there)",
                        "API 密钥（在终端中设置；下面的代码从环境变量读取）"),
    "serve.servers": ("Servers", "服务列表"),
    "serve.none": ("No server yet.", "还没有服务。"),
    "serve.none_running": ("No server is running. {count} stopped: switch on “Show stopped servers” to see them "
                           "or start one again.",
                           "没有运行中的服务。已停止 {count} 个：打开“显示已停止的服务”即可查看或重新启动。"),
    "serve.url": ("Base URL", "接口地址"),
    "serve.state": ("State", "状态"),
    "serve.stop": ("Stop", "停止"),
    "serve.stopped": ("Stopped the server of {model} ({job}).", "已停止 {model} 的服务（{job}）。"),
    "serve.restarted": ("Serving {model} again at {url}, with the same key.",
                        "{model} 已重新发布，地址 {url}，密钥不变。"),
    "serve.restart": ("Restart", "重新启动"),
    "serve.restart_help": ("Serve the same model again with the same API key and, when it is free, the same port.",
                           "用同一个 API 密钥重新发布同一个模型；端口空闲时沿用原端口。"),
    # a server's state: a serve job that is running is serving; a cancelled one was stopped
    "serve.state.running": ("serving", "服务中"), "serve.state.cancelled": ("stopped", "已停止"),
    "serve.refresh": ("Refresh", "刷新"),
    "serve.how": ("Call it", "调用示例"),
    "serve.python": ("Python (`openai` package)", "Python（`openai` 包）"),
    "serve.curl": ("curl", "curl"),
    "serve.show_finished": ("Show stopped servers", "显示已停止的服务"),
}
