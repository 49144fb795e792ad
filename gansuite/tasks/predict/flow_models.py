"""``flow-unet``: a next-frame generator that predicts motion and warps the last frames.

The design of Deep Voxel Flow (Liu et al., ICCV 2017) and SDC-Net (Reda et al., ECCV 2018):
instead of drawing the next frame, the network predicts a dense flow field, an occlusion /
blend mask and a small residual, and the frame is the last context frame warped along the flow
with ``grid_sample`` — so it learns how things move rather than what they look like, keeps the
input's sharpness, and generalises from little data.

Coarse to fine: the coarse motion comes from classical optical flow between the last two frames
(OpenCV DIS, `dis_flow`, computed at no more than `max_flow_side` on the short side), and a
U-Net run at a reduced resolution (1/`internal_scale`, and at most `max_internal_side` on the
short side) sees the context frames, that flow and the frames it warps, and predicts

- a flow correction ΔF (added to the classical flow F₀),
- blend weights (a softmax over four candidates, the occlusion / blend mask of DVF widened): the
  last frame warped by F with bilinear sampling, the same with bicubic sampling (sharper: bilinear
  resampling blurs, which LPIPS punishes, bicubic overshoots at edges, which PSNR punishes), the
  frame before it warped by 2F (a second look at the same moving point, for pixels the last frame
  gets wrong), and the last frame unwarped (where the flow is unreliable, the frame that is not
  moved is the safer guess under an L1/L2 loss),
- an RGB residual r (brightness changes, disocclusions),

all upsampled (bilinear) to the input size, where the full-resolution frames are warped:
``next = w₀·warp(I[t−1], F) + w₁·warp_bicubic(I[t−1], F) + w₂·warp(I[t−2], 2F) + w₃·I[t−1] + r``,
clamped to [0, 1]. The output head starts at zero with the blend logits biased to (4, 0, 0, 0)
(w₀ ≈ 0.95), so an untrained model is within a few percent of the optical-flow extrapolation
baseline, and the blend's gradients are not vanishing (the sigmoid-of-−6 mask of the first
version barely moved).

Extra candidates (`flow_scales`, `accelerations`) give the blend more to choose
from per pixel: the last frame warped by s·F for each scale s (motion slowing down or speeding
up; s = 0 is the copy above), and warped by F + a·(F − F₂) for each a, F₂ the flow one frame
earlier (between the second and third last frames, sampled where F points) — a constant
acceleration instead of a constant velocity. With accelerations, F − F₂ is also an input of the
U-Net, so it sees where the motion changes. Choosing per 16-px block the best of scales
(0, 0.5, 0.8, 1, 1.2) and accelerations (0.5, 1) would gain about 3 dB over constant-velocity
extrapolation on the natural clips (an oracle, not a prediction): the motion changes from frame
to frame. Learned, the choice is worth much less: a twin trained with these five extra
candidates (2400 steps) gained 0.1 dB at step 1 on an unseen clip and lost 0.2–0.3 dB at steps
3–4, where a slowed or accelerated prediction is fed back and extrapolated again; the shipped
``natural`` weights do not use them.

Hedge candidates (`hedge_scales`, `blur_sigmas`) let a model trained for PSNR hedge where the
motion is uncertain, as the mean of the possible futures does (the MSE-optimal prediction): the
average of the last frame warped by s·F over the scales s (a blur along the motion, for an
uncertain speed), and the warp by F blurred by a Gaussian of each σ (for an uncertain direction).
Measured on the natural clips with fixed, global choices (not learned), the motion average over
s = 0.5 … 1.5 gains 0.14–0.33 dB over the plain warp at step 1, a σ = 1.2 blur +0.4 dB on
cockatoo but −0.4 on realshort; choosing per 16-px block among them would gain 0.4–0.75 dB.
Learned, the hedges are worth less: a twin with the motion average over s = 0.5 … 1.5 and blurs
σ = 1, 2, trained with MSE alone for 2400 steps from the shipped weights, gained 0.04 dB over
flow extrapolation at step 1 on the unseen cockatoo clip and 0.3–0.4 dB at steps 2–4 (the first
twin beating both baselines at every step there), at a higher LPIPS, and lost 0.2–0.5 dB at
steps 3–4 on newtonscradle. What made the hedges pay was training data whose motion is not fully
predictable (synthetic hand-held camera shake, `MotionRanges.max_shake`): with it the MSE twin
gained 0.43 dB at step 1 and 0.8–1.1 dB at steps 2–4 over flow extrapolation on cockatoo. The
shipped ``natural`` / ``natural-mse`` use the four base candidates plus these three hedges
(s = 0.5 … 1.5; σ = 1, 2) and were trained with that shake.

A hard blend (`blend="hard"`: each pixel taken whole from one candidate, one future instead of
a mix) with bicubic resampling (`interpolation="bicubic"`) is the sharp end of the design.
Measured on the seen clips at step 1 with fixed choices, constant-velocity extrapolation has
LPIPS 0.030 with bilinear resampling and 0.024 with bicubic (copy-last: 0.026), so the
resampling kernel alone decides whether a warp looks sharper than the last frame. Learned, a
hard blend did not help: the shipped GAN fine-tuned with both for 800 steps rose from LPIPS
0.038 to 0.057 at step 1 on the seen clips, because with no soft mix left its L1 loss hedges by
picking the hedge and blur candidates. Without those candidates (four base candidates, hard,
bicubic, 800 steps) it kept LPIPS 0.024 at step 1 but stayed on the bicubic warp, i.e. the
classical extrapolation, and its rollout fell below copy-last's PSNR by step 4.

The U-Net's blend weights are bilinearly upsampled from its reduced resolution, so it cannot
choose per pixel (keep a static pixel beside a moving one, pick the sharp warp along a thin edge).
Fixed, per-pixel rules show what that is worth on the seen clips at step 1: the bilinear warp
gives 31.07 dB / LPIPS 0.030, the bicubic one 30.66 / 0.024, and snapping flows under 0.5 px to
zero 31.18 / 0.030 (bilinear) or 30.88 / 0.024 (bicubic); copy-last is 29.11 / 0.026.
`refine_channels` adds a small full-resolution CNN that corrects the blend logits and the
residual per pixel. Learned, it changed little: the shipped GAN with it (8 channels, 1200 steps)
reached 31.13 dB / LPIPS 0.0375 at step 1 on the seen clips (shipped 31.17 / 0.0382), and ten
times the VGG perceptual weight (0.0378) or the adversarial weight with a faster discriminator
(0.0373) did not move its sharpness either: its blend stays on the bilinear warp and the σ = 2
blur (a quarter of the weight on the unseen clip), the hedge its training data rewards.
Nor did replacing the pixel L1 by a low-pass L1 (`lowpass_l1`, σ = 2, which leaves detail
misplaced by a pixel or two nearly free): after 1200 steps the σ = 2 blur kept its weight and the
seen clips' LPIPS stayed at 0.038 (README, issue-16 tries).

Costs: DIS runs on the CPU (NumPy), per batch item, without gradient; the network cost is that of
a small U-Net at the reduced resolution. Not exportable to ONNX (DIS is an OpenCV call).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gansuite.core.blocks import conv, init_weights
from gansuite.core.filters import gaussian_blur
from gansuite.core.networks import GENERATORS
from gansuite.errors import ConfigError
from gansuite.tasks.predict.baselines import DIS_PRESETS, backward_warp, dis_flow

__all__ = ["FlowUNetPredictor"]

_FLOW_NORM = 4.0  # flow channels are fed to the U-Net in units of 4 working-resolution pixels
_BASE_CANDIDATES = 4  # warp(F), bicubic warp(F), previous frame warped by 2F, copy of the last frame
_FIRST_LOGIT = 4.0  # blend logits start at (4, 0, 0, 0): softmax (0.948, 0.017, 0.017, 0.017), mostly warp(F)


class _DoubleConv(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            conv(in_channels, out_channels),
            nn.LeakyReLU(0.2, inplace=True),
            conv(out_channels, out_channels),
            nn.LeakyReLU(0.2, inplace=True),
        )


def _resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    shrink = size[0] <= x.shape[-2] and size[1] <= x.shape[-1]
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrink)


def _resize_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize a (N, 2, H, W) pixel flow to `size`, rescaling its x and y offsets to the new pixels."""
    height, width = flow.shape[-2:]
    if (height, width) == tuple(size):
        return flow
    scale = flow.new_tensor([size[1] / width, size[0] / height]).view(1, 2, 1, 1)
    return _resize(flow, size) * scale


@GENERATORS.register("flow-unet")
class FlowUNetPredictor(nn.Module):
    """Motion-aware next-frame predictor: classical flow + a U-Net's flow correction, blend and residual.

    Args:
        context_frames: k >= 2, the frames the model sees.
        channels: C, 1 (gray) or 3 (RGB).
        base_channels: U-Net features at the working resolution; doubled per level up to 4x.
        depth: U-Net down-sampling levels, 1..5.
        internal_scale: the U-Net runs at 1/this of the input resolution (at least).
        max_internal_side: ... and at most this short side (bounds the cost on large frames).
        classical_flow: a DIS preset ("ultrafast", "fast", "medium") for the coarse flow, or
            "none" to learn the whole flow.
        max_flow_side: DIS runs on frames downscaled to at most this short side.
        flow_scales: extra blend candidates, the last frame warped by s·F for each s.
        accelerations: extra blend candidates, the last frame warped by F + a·(F − F₂) for each
            a (needs context_frames >= 3 and classical flow; one more DIS call per frame).
        hedge_scales: if given, one extra candidate, the mean of the last frame warped by s·F
            over these s (at least 2 scales).
        blur_sigmas: extra candidates, the last frame warped by F and blurred by a Gaussian of
            each σ (pixels, > 0).
        blend: "soft", the output a softmax-weighted mix of the candidates (the default), or
            "hard", each pixel taken whole from its highest-weighted candidate (one future, not an
            average of futures); training then passes gradients through the softmax weights
            (straight-through estimator, Bengio et al. 2013).
        interpolation: how the full-resolution frames are resampled in the candidates:
            "bilinear" (the default; smooth, slightly blurring) or "bicubic" (sharper; clamped to
            [0, 1]). Candidate 1 is bicubic either way.
        refine_channels: if > 0, a two-layer CNN of this width at the full resolution (on the
            candidates, the upsampled blend logits and the flow) corrects the logits and the
            residual per pixel, where the U-Net's reduced resolution cannot: static pixels beside
            moving ones, thin edges. 0 (the default): no refinement.
        min_flow: classical flow vectors shorter than this (pixels at the input resolution, >= 0)
            are set to zero before anything uses them. DIS reports small spurious motion on static
            texture and noise, and warping by a sub-pixel flow blurs (bilinear resampling at a
            fractional offset is a low-pass filter), so static pixels are copied exactly instead.
            0 (the default): the flow as DIS returns it.

    Forward:
        x: (N, k·C, H, W) float in [0, 1], the context frames oldest first, stacked along
            channels; any H, W >= 2.
        Returns (N, C, H, W) float32 in [0, 1], the next frame.

    Raises:
        ConfigError: bad settings, or an input of the wrong layout.
    """

    # read by gansuite.deploy.onnx.export_onnx, which refuses the model with this reason
    onnx_unsupported = "its forward pass computes optical flow with OpenCV (DIS) and sizes its U-Net in Python"

    def __init__(
        self, *, context_frames: int = 4, channels: int = 3, base_channels: int = 24, depth: int = 3,
        internal_scale: int = 2, max_internal_side: int = 256, classical_flow: str = "medium",
        max_flow_side: int = 360, flow_scales: tuple[float, ...] = (), accelerations: tuple[float, ...] = (),
        hedge_scales: tuple[float, ...] = (), blur_sigmas: tuple[float, ...] = (), blend: str = "soft",
        interpolation: str = "bilinear", refine_channels: int = 0, min_flow: float = 0.0,
    ) -> None:
        super().__init__()
        if context_frames < 2 or channels not in (1, 3) or base_channels < 1 or not 1 <= depth <= 5:
            raise ConfigError(
                f"flow-unet: need context_frames >= 2, channels 1 or 3, base_channels >= 1 and depth 1..5; "
                f"got {context_frames}, {channels}, {base_channels}, {depth}"
            )
        if internal_scale < 1 or max_internal_side < 8 or max_flow_side < 8:
            raise ConfigError(
                f"flow-unet: internal_scale >= 1, max_internal_side >= 8 and max_flow_side >= 8 needed, got "
                f"{internal_scale}, {max_internal_side}, {max_flow_side}"
            )
        if not min_flow >= 0.0:
            raise ConfigError(f"flow-unet: min_flow must be >= 0 pixels, got {min_flow}")
        self.min_flow = float(min_flow)
        if classical_flow != "none" and classical_flow not in DIS_PRESETS:
            raise ConfigError(f"flow-unet: classical_flow must be 'none' or one of {sorted(DIS_PRESETS)}")
        self.flow_scales = tuple(float(v) for v in flow_scales)
        self.accelerations = tuple(float(v) for v in accelerations)
        if self.accelerations and (context_frames < 3 or classical_flow == "none"):
            raise ConfigError("flow-unet: accelerations need context_frames >= 3 and a classical_flow preset")
        self.hedge_scales = tuple(float(v) for v in hedge_scales)
        if blend not in ("soft", "hard"):
            raise ConfigError(f"flow-unet: blend must be 'soft' or 'hard', got {blend!r}")
        self.blend = blend
        if interpolation not in ("bilinear", "bicubic"):
            raise ConfigError(f"flow-unet: interpolation must be 'bilinear' or 'bicubic', got {interpolation!r}")
        self.interpolation = interpolation
        self.blur_sigmas = tuple(float(v) for v in blur_sigmas)
        if len(self.hedge_scales) == 1 or any(sigma <= 0 for sigma in self.blur_sigmas):
            raise ConfigError(
                f"flow-unet: hedge_scales needs at least 2 scales and blur_sigmas positive values, got "
                f"{self.hedge_scales} and {self.blur_sigmas}"
            )
        self.candidates = (
            _BASE_CANDIDATES + len(self.flow_scales) + len(self.accelerations) + (1 if self.hedge_scales else 0)
            + len(self.blur_sigmas)
        )
        self.context_frames, self.channels, self.depth = context_frames, channels, depth
        self.internal_scale, self.max_internal_side = internal_scale, max_internal_side
        self.classical_flow, self.max_flow_side = classical_flow, max_flow_side
        widths = [base_channels * min(2**level, 4) for level in range(depth + 1)]
        # context frames, flow (2), last frame warped by F0, frame before warped by 2·F0 (, F0 − F₂)
        in_channels = context_frames * channels + 2 + 2 * channels + (2 if self.accelerations else 0)
        self.encoders = nn.ModuleList(
            _DoubleConv(in_channels if level == 0 else widths[level - 1], widths[level]) for level in range(depth + 1)
        )
        self.upconvs = nn.ModuleList(
            nn.ConvTranspose2d(widths[level], widths[level - 1], kernel_size=2, stride=2)
            for level in range(depth, 0, -1)
        )
        self.decoders = nn.ModuleList(
            _DoubleConv(2 * widths[level - 1], widths[level - 1]) for level in range(depth, 0, -1)
        )
        self.head = conv(widths[0], 2 + self.candidates + channels)  # ΔF (2), blend logits, residual (C)
        if refine_channels < 0:
            raise ConfigError(f"flow-unet: refine_channels must be >= 0, got {refine_channels}")
        self.refine_channels = refine_channels
        self.refine = None
        if refine_channels:  # candidates, upsampled logits, flow → corrections of logits and residual
            self.refine = nn.Sequential(
                conv(self.candidates * (channels + 1) + 2, refine_channels),
                nn.LeakyReLU(0.2, inplace=True),
                conv(refine_channels, self.candidates + channels),
            )
        init_weights(self)
        for layer in (self.head, *(() if self.refine is None else (self.refine[-1],))):
            nn.init.zeros_(layer.weight)  # starts as the model without the layer's output
            nn.init.zeros_(layer.bias)

    def working_size(self, height: int, width: int) -> tuple[int, int]:
        """The (height, width) the U-Net runs at (before padding to a multiple of 2**depth)."""
        factor = max(float(self.internal_scale), min(height, width) / self.max_internal_side)
        return max(1, round(height / factor)), max(1, round(width / factor))

    def _classical_flow(self, last: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
        """(N, 2, H, W) pixel flow from the last frame to the one before (zeros without classical flow).

        Vectors shorter than `min_flow` pixels are zero.
        """
        n, _, height, width = last.shape
        if self.classical_flow == "none":
            return last.new_zeros(n, 2, height, width)
        factor = min(height, width) / self.max_flow_side
        if factor > 1:
            size = (max(1, round(height / factor)), max(1, round(width / factor)))
            flow = dis_flow(_resize(last, size), _resize(previous, size), preset=self.classical_flow)
            flow = _resize_flow(flow, (height, width))
        else:
            flow = dis_flow(last, previous, preset=self.classical_flow)
        if self.min_flow > 0:
            flow = flow * (flow.pow(2).sum(1, keepdim=True) >= self.min_flow**2)
        return flow

    def _warp(self, frames: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """A full-resolution candidate: `frames` warped along `flow` with this model's interpolation."""
        if self.interpolation == "bicubic":
            return backward_warp(frames, flow, mode="bicubic").clamp(0.0, 1.0)
        return backward_warp(frames, flow)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, c = self.context_frames, self.channels
        if x.dim() != 4 or x.shape[1] != k * c or min(x.shape[-2:]) < 2:
            raise ConfigError(
                f"flow-unet expects (N, {k * c}, H >= 2, W >= 2) = {k} context frames x {c} channels stacked, "
                f"got {tuple(x.shape)}"
            )
        x = x.float().contiguous()
        height, width = x.shape[-2:]
        last, previous = x[:, -c:], x[:, -2 * c : -c]
        with torch.no_grad():
            flow0 = self._classical_flow(last, previous)  # (N, 2, H, W) pixels
            change = None  # F0 − F₂: how the motion changed since the frame before
            if self.accelerations:
                earlier = self._classical_flow(previous, x[:, -3 * c : -2 * c])
                change = flow0 - backward_warp(earlier, flow0)
        size = self.working_size(height, width)
        small_flow = _resize_flow(flow0, size)
        small_last, small_previous = _resize(last, size), _resize(previous, size)
        inputs = [
            _resize(x, size),
            small_flow / _FLOW_NORM,
            backward_warp(small_last, small_flow),
            backward_warp(small_previous, 2.0 * small_flow),
        ]
        if change is not None:
            inputs.append(_resize_flow(change, size) / _FLOW_NORM)
        features = torch.cat(inputs, dim=1)  # (N, k·C + 2 + 2C (+ 2), h, w)
        multiple = 2**self.depth
        pad_h, pad_w = (-size[0]) % multiple, (-size[1]) % multiple
        y = F.pad(features, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else features
        skips = []
        for level, encoder in enumerate(self.encoders):
            if level:
                y = F.max_pool2d(y, 2)
            y = encoder(y)
            skips.append(y)
        for upconv, decoder, skip in zip(self.upconvs, self.decoders, reversed(skips[:-1]), strict=True):
            y = F.leaky_relu(upconv(y), 0.2)
            y = decoder(torch.cat([y, skip], dim=1))
        blends = self.candidates
        out = self.head(y)[..., : size[0], : size[1]]  # (N, 2 + candidates + C, h, w)
        delta = out[:, :2] * _FLOW_NORM  # working-resolution pixels
        flow = flow0 + _resize_flow(delta, (height, width))
        bias = torch.zeros(blends, dtype=out.dtype, device=out.device)
        bias[0] = _FIRST_LOGIT
        logits = _resize(out[:, 2 : 2 + blends] + bias.view(1, blends, 1, 1), (height, width))
        residual = _resize(out[:, 2 + blends :], (height, width))
        candidates = self._candidates(last, previous, flow, change)
        if self.refine is not None:  # full-resolution corrections of the blend logits and the residual
            stacked = torch.cat([*candidates, logits, flow / _FLOW_NORM], dim=1)
            correction = self.refine(stacked)
            logits, residual = logits + correction[:, :blends], residual + correction[:, blends:]
        weights = torch.softmax(logits, dim=1)  # (N, candidates, H, W)
        if self.blend == "hard":  # one candidate per pixel; gradients through the softmax (straight-through)
            hard = F.one_hot(weights.argmax(1), blends).permute(0, 3, 1, 2).to(weights.dtype)
            weights = hard + weights - weights.detach()
        blended = sum(weights[:, i : i + 1] * candidate for i, candidate in enumerate(candidates))
        return (blended + residual).clamp(0.0, 1.0)

    def _candidates(
        self, last: torch.Tensor, previous: torch.Tensor, flow: torch.Tensor, change: torch.Tensor | None
    ) -> list[torch.Tensor]:
        """The full-resolution blend candidates, each (N, C, H, W), in the order of the blend logits."""
        warp = self._warp
        bicubic = backward_warp(last, flow, mode="bicubic").clamp(0.0, 1.0)
        candidates = [
            bicubic if self.interpolation == "bicubic" else warp(last, flow),  # the same warp: sampled once
            bicubic,
            warp(previous, 2.0 * flow),
            last,
        ]
        candidates += [warp(last, scale * flow) for scale in self.flow_scales]
        if change is not None:
            candidates += [warp(last, flow + rate * change) for rate in self.accelerations]
        if self.hedge_scales:  # the warp by F itself is candidates[0]: not sampled again
            hedged = sum(candidates[0] if scale == 1.0 else warp(last, scale * flow) for scale in self.hedge_scales)
            candidates.append(hedged / len(self.hedge_scales))
        candidates += [gaussian_blur(candidates[0], sigma) for sigma in self.blur_sigmas]
        return candidates

    def example_inputs(self, batch_size: int = 2) -> tuple[torch.Tensor, ...]:
        # odd sizes exercise the padding; a shifted pattern gives the classical flow something to find
        base = torch.rand(batch_size, self.channels, 29, 35)
        frames = [torch.roll(base, shifts=(0, t), dims=(2, 3)) for t in range(self.context_frames)]
        return (torch.cat(frames, dim=1)[..., 2:29, 3:35],)
