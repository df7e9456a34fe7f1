"""The interior of a short correlation from 64-byte-aligned vector loads, as LLVM IR.

``aligned_blocks(r, c, o, start, n_blocks)`` sets ``o[j] = c[0]*r[j] + c[1]*r[j+1] + ...`` (the
products added left to right: the bits of a plain loop over the taps) for the ``n_blocks * L``
outputs from ``j = start``, where ``L`` values fill 64 bytes (8 float64, 16 float32) and
``r[start]`` sits on a 64-byte boundary. The caller (:func:`nirskern._taps.correlate_valid`)
checks that, and that the loads stay inside ``r``: block ``b`` reads the aligned vectors
``r[start + L*b : start + L*(b + 1 + ceil((len(c) - 1) / L))]``.

Why IR: compiled from a plain loop, the input for tap ``k`` is an unaligned vector load at
``r[j + k]``, and with 64-byte vectors 7 of every 8 such loads straddle two cache lines (twice
the cost). Here each vector of ``r`` is loaded once, aligned, and the input of tap ``k`` is cut
from two neighbouring vectors by a two-source shuffle (``vpermt2pd``); no fast-math flag is set,
so each product and sum is the IEEE operation of the plain loop. ``BLOCKS`` output vectors are
computed side by side, sharing each broadcast tap weight. Measured here (17-tap Gaussian, 10k x
1024 float64, one thread, from memory): 11.4 -> 6.8 ms against the unaligned tap passes; taking
every other tap from an unaligned load instead of a shuffle, or all of them, was slower.

``aligned_box_blocks(r, size, scale, o, start, n_blocks)`` is the same loop with every weight 1
and one multiply at the end: ``o[j] = (r[j] + ... + r[j + size - 1]) * scale``, for a float64
``r`` (``o`` float64 or float32, rounded once at the store), called by
:func:`nirskern._taps.box_sum_valid`.

Typing only (numba's ``@intrinsic``): the arrays are contiguous and 1-D; the loads assume the
alignment above (an unaligned ``r[start]`` is undefined behaviour), so call them only through
the checked functions of :mod:`nirskern._taps`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

if TYPE_CHECKING:
    from collections.abc import Callable

    from nirskern._validate import FloatArray

#: Output vectors per step of the block loop (one broadcast of each weight serves all of them).
#: 1, 2, 4 and 8 ran within 10% of each other (17, 9 and 33 taps in cache; 33 taps favours more).
BLOCKS = 4

_I32 = ir.IntType(32)


class _Emitter:
    """IR for the blocks of one call: the row pointers, the vector type and the tap count."""

    def __init__(
        self,
        builder: ir.IRBuilder,
        fty: ir.Type,
        oty: ir.Type,
        rows: tuple[Any, Any, Any],
        w: Any,
        scale: Any = None,
    ):
        self.b = builder
        self.size = 4 if isinstance(fty, ir.FloatType) else 8
        self.lanes = 64 // self.size
        self.vty = ir.VectorType(fty, self.lanes)
        self.out_vty = ir.VectorType(oty, self.lanes)
        self.out_size = 4 if isinstance(oty, ir.FloatType) else 8
        # rows: the input, the weights (None: every weight is 1, a box sum) and the output.
        self.rp, self.cp, self.op = rows
        self.w, self.scale = w, scale
        self.intp = w.type

    def slot(self) -> Any:
        """A vector variable (an entry-block alloca: LLVM keeps it in a register)."""
        with self.b.goto_entry_block():
            return self.b.alloca(self.vty)

    def const(self, v: int) -> ir.Constant:
        return ir.Constant(self.intp, v)

    def vector(self, index: Any) -> Any:
        """The aligned vector ``index`` (in vectors) of ``r``."""
        ptr = self.b.gep(self.rp, [self.b.mul(index, self.const(self.lanes))])
        return self.b.load(self.b.bitcast(ptr, self.vty.as_pointer()), align=64)

    def weight(self, k: Any) -> Any:
        """Tap weight ``c[k]`` in every lane (None for a box sum)."""
        return None if self.cp is None else self.splat(self.b.load(self.b.gep(self.cp, [k])))

    def term(self, weight: Any, x: Any) -> Any:
        """One tap's contribution: ``weight * x``, or ``x`` itself in a box sum."""
        return x if weight is None else self.b.fmul(weight, x)

    def splat(self, s: Any) -> Any:
        """The scalar ``s`` in every lane."""
        undef = ir.Constant(self.vty, ir.Undefined)
        v = self.b.insert_element(undef, s, ir.Constant(_I32, 0))
        zeros = ir.Constant(ir.VectorType(_I32, self.lanes), [0] * self.lanes)
        return self.b.shuffle_vector(v, undef, zeros)

    def window(self, lo: Any, hi: Any, shift: int) -> Any:
        """Lanes ``shift .. shift + L - 1`` of the pair ``lo, hi``."""
        if shift == 0:
            return lo
        if shift == self.lanes:
            return hi
        mask = ir.Constant(ir.VectorType(_I32, self.lanes), list(range(shift, shift + self.lanes)))
        return self.b.shuffle_vector(lo, hi, mask)

    def blocks(self, first: Any, count: Any, nb: int) -> None:
        """Output blocks ``first .. first + count*nb - 1``, ``nb`` of them per loop step."""
        b, lanes = self.b, self.lanes
        full = b.sdiv(b.sub(self.w, self.const(1)), self.const(lanes))
        rem = b.srem(b.sub(self.w, self.const(1)), self.const(lanes))
        acc = [self.slot() for _ in range(nb)]
        vec = [self.slot() for _ in range(nb + 1)]
        with cgutils.for_range(b, count) as step:
            b0 = b.add(first, b.mul(step.index, self.const(nb)))
            c0 = self.weight(self.const(0))
            for i in range(nb):
                v = self.vector(b.add(b0, self.const(i)))
                b.store(v, vec[i])
                b.store(self.term(c0, v), acc[i])
            b.store(self.vector(b.add(b0, self.const(nb))), vec[nb])
            # Group g: taps 1 + g*L .. L + g*L, cut from vectors g + i and g + i + 1.
            with cgutils.for_range(b, full) as group:
                g = group.index
                lo = [b.load(v) for v in vec]
                for t in range(1, lanes + 1):
                    weight = self.weight(b.add(b.mul(g, self.const(lanes)), self.const(t)))
                    for i in range(nb):
                        x = self.window(lo[i], lo[i + 1], t)
                        b.store(b.fadd(b.load(acc[i]), self.term(weight, x)), acc[i])
                for i in range(nb):
                    b.store(lo[i + 1], vec[i])
                b.store(self.vector(b.add(b0, b.add(g, self.const(nb + 1)))), vec[nb])
            # The last rem taps (fewer than L), when len(c) - 1 is not a multiple of L.
            lo = [b.load(v) for v in vec]
            for t in range(1, lanes):
                with b.if_then(b.icmp_signed(">=", rem, self.const(t))):
                    weight = self.weight(b.add(b.mul(full, self.const(lanes)), self.const(t)))
                    for i in range(nb):
                        x = self.window(lo[i], lo[i + 1], t)
                        b.store(b.fadd(b.load(acc[i]), self.term(weight, x)), acc[i])
            scale = None if self.scale is None else self.splat(self.scale)
            for i in range(nb):
                at = b.mul(b.add(b0, self.const(i)), self.const(lanes))
                dst = b.bitcast(b.gep(self.op, [at]), self.out_vty.as_pointer())
                result = b.load(acc[i])
                if scale is not None:
                    result = b.fmul(result, scale)
                if self.out_vty != self.vty:
                    result = b.fptrunc(result, self.out_vty)
                b.store(result, dst, align=self.out_size)


def _typed_arrays(*arrays: Any) -> bool:
    first = arrays[0]
    return all(
        isinstance(a, types.Array) and a.ndim == 1 and a.dtype == first.dtype for a in arrays
    ) and first.dtype in (types.float32, types.float64)


@intrinsic
def _aligned_blocks(typingctx: Any, r: Any, c: Any, o: Any, start: Any, n_blocks: Any) -> Any:
    """Typing and IR of the aligned-vector correlation (see the module docstring)."""
    del typingctx
    if not (_typed_arrays(r, c, o) and isinstance(start, types.Integer)):
        return None
    sig = types.void(r, c, o, types.intp, types.intp)

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> None:
        rty, cty, oty = signature.args[:3]
        ra = context.make_array(rty)(context, builder, args[0])
        ca = context.make_array(cty)(context, builder, args[1])
        oa = context.make_array(oty)(context, builder, args[2])
        start, n_blocks = args[3], args[4]
        w = builder.extract_value(ca.shape, 0)
        rp = builder.gep(ra.data, [start])
        op = builder.gep(oa.data, [start])
        fty = context.get_value_type(rty.dtype)
        _emit_all(_Emitter(builder, fty, fty, (rp, ca.data, op), w), n_blocks)

    return sig, codegen


def _emit_all(emit: _Emitter, n_blocks: Any) -> None:
    """``n_blocks`` output blocks: BLOCKS side by side, then the rest one by one."""
    steps = emit.b.sdiv(n_blocks, emit.const(BLOCKS))
    emit.blocks(emit.const(0), steps, BLOCKS)
    done = emit.b.mul(steps, emit.const(BLOCKS))
    emit.blocks(done, emit.b.sub(n_blocks, done), 1)


@intrinsic
def _aligned_box_blocks(
    typingctx: Any, r: Any, size: Any, scale: Any, o: Any, start: Any, n_blocks: Any
) -> Any:
    """Typing and IR of the box sum ``o[j] = (r[j] + ... + r[j + size - 1]) * scale`` over the
    aligned blocks (``r`` float64; ``o`` float64 or float32, rounded once at the store)."""
    del typingctx
    if not (
        _typed_arrays(r)
        and r.dtype == types.float64
        and _typed_arrays(o)
        and isinstance(size, types.Integer)
    ):
        return None
    sig = types.void(r, types.intp, types.float64, o, types.intp, types.intp)

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> None:
        rty, _, _, oty = signature.args[:4]
        ra = context.make_array(rty)(context, builder, args[0])
        oa = context.make_array(oty)(context, builder, args[3])
        start, n_blocks = args[4], args[5]
        rp = builder.gep(ra.data, [start])
        op = builder.gep(oa.data, [start])
        fty = context.get_value_type(rty.dtype)
        oty_ir = context.get_value_type(oty.dtype)
        emit = _Emitter(builder, fty, oty_ir, (rp, None, op), args[1], args[2])
        _emit_all(emit, n_blocks)

    return sig, codegen


@intrinsic
def _lanes(typingctx: Any, r: Any) -> Any:
    """Values of ``r``'s dtype in 64 bytes, as a compile-time constant (``r.itemsize`` is read
    at run time, and divisions by it cost a hardware divide each)."""
    del typingctx
    if not _typed_arrays(r):
        return None

    def codegen(context: Any, builder: ir.IRBuilder, signature: Any, args: Any) -> Any:
        del builder, args
        size = context.get_abi_sizeof(context.get_value_type(signature.args[0].dtype))
        return ir.Constant(context.get_value_type(types.intp), 64 // size)

    return types.intp(r), codegen


#: The intrinsics as their callers see them (numba passes ``typingctx`` itself).
aligned_blocks = cast(
    "Callable[[FloatArray, FloatArray, FloatArray, int, int], None]", _aligned_blocks
)
aligned_box_blocks = cast(
    "Callable[[FloatArray, int, float, FloatArray, int, int], None]", _aligned_box_blocks
)
lanes = cast("Callable[[FloatArray], int]", _lanes)
