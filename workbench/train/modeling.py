"""The model side of training: load base + adapter, attention restricted to each packed row, the loss.

The loss never builds logits for the whole batch: only positions whose next token is an answer token
go through the output layer, in chunks that are recomputed in backward, so fp32 logits over a 49k
vocabulary never exist for more than one chunk (on CUDA, liger-kernel's fused linear cross-entropy
does the same when it is installed).
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from pathlib import Path

from .formatting import IGNORE

ROW_ATTENTION = "workbench_rows"
LOGIT_CHUNK = 1024


class TrainError(ValueError):
    """A problem with the run's inputs or resources, worded for the user (no traceback needed)."""


OOM_ADVICE = ("out of memory: try a smaller batch size or tokens per micro-batch, a shorter max length, or turn on "
              "gradient checkpointing; checkpoints already written stay valid / 内存不足：请减小批大小或每微批 token 数、"
              "缩短最大长度，或开启梯度检查点；已保存的检查点仍然有效")


@contextmanager
def out_of_memory_advice():
    """Turn an out-of-memory error (CUDA, or the CPU allocator) into a TrainError that says what to change."""
    import torch

    try:
        yield
    except torch.OutOfMemoryError as error:
        raise TrainError(OOM_ADVICE) from error
    except (RuntimeError, MemoryError) as error:
        if isinstance(error, MemoryError) or "out of memory" in str(error) or "allocate" in str(error):
            raise TrainError(OOM_ADVICE) from error
        raise


def row_attention(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs):
    """Causal attention computed separately for each row of a packed sequence (no cross-row attention)."""
    import torch
    import torch.nn.functional as F

    bounds = kwargs.get("cu_seq_lens_q")
    groups = query.shape[1] // key.shape[1]
    if groups > 1:
        key, value = key.repeat_interleave(groups, dim=1), value.repeat_interleave(groups, dim=1)
    if bounds is None:
        output = F.scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=True, scale=scaling)
    else:
        edges = bounds.tolist()
        output = torch.cat([F.scaled_dot_product_attention(query[:, :, s:e], key[:, :, s:e], value[:, :, s:e],
                                                           is_causal=True, scale=scaling)
                            for s, e in zip(edges[:-1], edges[1:])], dim=2)
    return output.transpose(1, 2).contiguous(), None


def register_row_attention() -> None:
    from transformers import AttentionInterface

    AttentionInterface.register(ROW_ATTENTION, row_attention)


def attention_for(device_type: str, packing: bool) -> str:
    """flash-attention varlen on CUDA when installed, per-row SDPA for packed rows elsewhere, SDPA padded."""
    if not packing:
        return "sdpa"
    if device_type == "cuda":
        try:
            import flash_attn  # noqa: F401
            return "flash_attention_2"
        except ImportError:
            pass
    register_row_attention()
    return ROW_ATTENTION


def resolve_precision(precision: str, device_type: str) -> str:
    """What "auto" means where the run trains. On a CPU with bf16 instructions, bf16 (frozen base weights in
    bf16, LoRA weights and optimizer state in fp32, products under autocast) trains 1.8x faster than fp32 on
    the bundled model (bench/train_throughput.py --precision); elsewhere bf16 is emulated, so fp32."""
    import torch

    from ..precision import cpu_bf16_native

    if precision != "auto":
        if device_type == "cpu" and precision == "fp16":
            raise TrainError("fp16 needs a GPU; use fp32 or bf16 on CPU / fp16 需要 GPU，CPU 上请用 fp32 或 bf16")
        return precision
    if device_type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if cpu_bf16_native() else "fp32"


def weight_dtype(precision: str):
    """The float type the base model's weights load in: bf16 for bf16; fp32 for fp32 and for fp16 (fp16 runs keep
    fp32 weights and multiply in fp16 under autocast)."""
    import torch

    return torch.bfloat16 if precision == "bf16" else torch.float32


def autocast(device_type: str, precision: str):
    import torch

    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device_type, dtype=torch.bfloat16 if precision == "bf16" else torch.float16)


def linear_module_names(model) -> list[str]:
    """Names of the linear layers LoRA can target (q_proj, up_proj, ...), without the output layer."""
    import torch

    output = model.get_output_embeddings()
    names = {name.rsplit(".", 1)[-1] for name, module in model.named_modules()
             if isinstance(module, torch.nn.Linear) and module is not output}
    return sorted(names)


def check_causal_lm(folder: Path):
    """The folder's config when it describes a causal LM; TrainError otherwise. Reads config.json only.

    Its `architectures` must name a causal-LM class: a BertModel folder would otherwise load as a
    BertLMHeadModel with a random head and bidirectional attention, and train to nonsense."""
    from transformers import AutoConfig
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES as CAUSAL

    try:
        config = AutoConfig.from_pretrained(str(folder))
    except (OSError, ValueError) as error:
        raise TrainError(f"{folder} is not a transformers model folder: {str(error).splitlines()[0]} / "
                         f"不是有效的模型文件夹") from error
    classes = {name for value in CAUSAL.values() for name in ([value] if isinstance(value, str) else value)}
    architectures = getattr(config, "architectures", None) or []
    if config.model_type not in CAUSAL or (architectures and not classes.intersection(architectures)):
        kind = ", ".join(architectures) or config.model_type
        raise TrainError(f"{folder} holds a {kind} model, not a causal language model (e.g. LlamaForCausalLM); "
                         f"choose a generative model / 该文件夹中的 {kind} 不是因果语言模型，请选择生成式模型")
    return config


def load_base(folder: Path, attention: str, dtype):
    from safetensors import SafetensorError
    from transformers import AutoModelForCausalLM

    config = check_causal_lm(folder)
    try:
        return AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype, attn_implementation=attention)
    except (ValueError, OSError, SafetensorError) as error:
        raise TrainError(f"cannot load the {config.model_type} weights in {folder}: {str(error).splitlines()[0]} / "
                         f"无法加载模型权重") from error


def check_targets(targets, available: list[str]) -> None:
    """TrainError naming the chosen LoRA targets the model lacks, and the ones it has."""
    if targets == "all-linear":
        return
    missing = [t for t in targets if t not in available]
    if missing or not targets:
        raise TrainError(f"LoRA target modules not in this model: {', '.join(missing) or '(none chosen)'}; "
                         f"available: {', '.join(available)} / 模型中没有这些 LoRA 目标模块："
                         f"{', '.join(missing) or '（未选择）'}；可选：{', '.join(available)}")


def add_adapter(model, config, adapter_folder: Path | None):
    """LoRA on the chosen linear layers (checked against the model), or continue a run's adapter."""
    from peft import LoraConfig, PeftModel, get_peft_model

    if adapter_folder is not None:
        return PeftModel.from_pretrained(model, str(adapter_folder), is_trainable=True)
    available = linear_module_names(model)
    check_targets(config.lora_targets, available)
    targets = available if config.lora_targets == "all-linear" else list(config.lora_targets)
    lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=targets, task_type="CAUSAL_LM")
    return get_peft_model(model, lora)


def parts(model):
    """(decoder body, output layer) of a causal LM, through a peft wrapper if there is one."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.get_decoder(), base.get_output_embeddings()


def _chunk_loss(hidden, weight, targets):
    import torch.nn.functional as F

    return F.cross_entropy((hidden @ weight.t()).float(), targets, reduction="sum")


def head_loss(hidden, weight, targets, fused=None):
    """Summed cross-entropy over the selected positions, one chunk of logits alive at a time."""
    import torch
    from torch.utils.checkpoint import checkpoint

    if fused is not None:
        return fused(weight, hidden, targets)
    if hidden.shape[0] * weight.shape[0] <= LOGIT_CHUNK * 32_768:  # small: keeping logits is cheaper
        return _chunk_loss(hidden, weight, targets)
    total = torch.zeros((), dtype=torch.float32, device=hidden.device)
    for start in range(0, hidden.shape[0], LOGIT_CHUNK):
        total = total + checkpoint(_chunk_loss, hidden[start:start + LOGIT_CHUNK], weight,
                                   targets[start:start + LOGIT_CHUNK], use_reentrant=False)
    return total


def fused_loss(device_type: str):
    """liger-kernel's fused linear cross-entropy on CUDA when installed, else None (chunked loss)."""
    if device_type != "cuda":
        return None
    try:
        from liger_kernel.transformers.fused_linear_cross_entropy import LigerFusedLinearCrossEntropyLoss
    except ImportError:
        return None
    return LigerFusedLinearCrossEntropyLoss(reduction="sum", ignore_index=IGNORE)


def batch_loss(model, batch, device, fused=None):
    """Summed answer-token loss of a batch (packed or padded)."""
    decoder, head = parts(model)
    kwargs = dict(input_ids=batch.input_ids.to(device), position_ids=batch.position_ids.to(device), use_cache=False)
    if batch.cu_seqlens is not None:
        bounds = batch.cu_seqlens.to(device)
        kwargs.update(cu_seq_lens_q=bounds, cu_seq_lens_k=bounds, max_length_q=batch.max_row,
                      max_length_k=batch.max_row)
    else:
        kwargs["attention_mask"] = batch.attention_mask.to(device)
    hidden = decoder(**kwargs).last_hidden_state
    targets = batch.targets.to(device)
    keep = targets != IGNORE
    return head_loss(hidden[keep], head.weight, targets[keep], fused)
