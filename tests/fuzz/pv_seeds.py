#!/ usr / bin / env python3
"""Write the hand-made seeds of the PV handler fuzz targets.

Each seed is a short, meaningful sequence of operations in the input
format pv_fuzz.c and pv_fuzz_ops.c decode (an opcode byte: top bit which
domain acts, the rest an index into the target's op list; then the bytes
the op's builder reads).  libFuzzer mutates from these, so the deep states
(a live grant map, a FIFO domain, a new page-table tree) are reached in
seconds rather than minutes.  Run it after changing the input format:

    tests/fuzz/pv_seeds.py            (writes tests/fuzz/corpus/*/seed-*)
"""
import os
import sys

TOP = os.path.dirname(os.path.abspath(__file__))

# pvf_frame: one byte naming a frame.
def own(f):  # 0..7: frame 0, the tables 1..4, argument frames 5, 6, spare 7
    assert 0 <= f <= 7
    return bytes([f])

def spare(f):  # 7..15
    return bytes([0x30 + f - 7])

def data(f):  # 16..55
    return bytes([0x50 + f - 16])

SHARED_INFO = bytes([0x80])
def gframe(k): return bytes([0x90 + k])
def status_frame(k): return bytes([0xa0 + k])
def window(k): return bytes([0xb0 + k])

# pvf_pte: flags byte (index into the flag table), then a frame.
RW, RO, KRW, KRO, PS, NX, NP, NPRW = range(8)
def pte(flags, frame): return bytes([flags]) + frame

# pvf_entry_addr: frame, then an index byte (slots 0..15).
def entry(frame, idx):
    assert idx < 16
    return frame + bytes([idx << 2])

# pvf_va: va = frame << 12 (+ 8 * (b & 31)).
def va(frame, off8=0): return bytes([off8]) + frame

def u8(x): return bytes([x & 0xff])
def u16(x): return (x & 0xffff).to_bytes(2, "little")
def u32(x): return (x & 0xffffffff).to_bytes(4, "little")

OTHER, SELF_ID, OWN_ID = u8(0), u8(4), u8(5)

def op(index, dom=0): return bytes([(dom << 7) | index])


def mm_seeds():
    # pv_mm_fuzz's list: 0 mmu_update, 1 mmuext, 2 update_va_mapping,
    # 3 update_descriptor, 4 set_gdt, 5 memory_op, 6 ptwr, 7 store
    MMU, EXT, UVA, DESC, GDT, MEM, PTWR, STORE = range(8)
    def mmuext(cmd, frame, src=own(0)):
        return op(EXT) + u8(0) + u8(cmd) + frame + src
    PIN_L1, PIN_L2, PIN_L3, PIN_L4, UNPIN, BASEPTR, LDT, UBASE = range(8)
    def mmu(ptr, val, mode=0):
        return op(MMU) + u8(0) + u8(mode) + ptr + val + u8(0) + u8(1)
    seeds = {}
    # a new tree: spare 8 as L1 mapping data 20, 9 as L2, 10 as L3, 11 as
    # L4, pinned, loaded, then the old one unpinned
    seeds["new-tree"] = (
        mmu(entry(spare(8), 0), pte(RW, data(20)))
        + mmuext(PIN_L1, spare(8))
        + mmu(entry(spare(9), 0), pte(RW, spare(8)))
        + mmu(entry(spare(10), 0), pte(RW, spare(9)))
        + mmu(entry(spare(11), 0), pte(RW, spare(10)))
        + mmuext(PIN_L4, spare(11))
        + mmuext(BASEPTR, spare(11))
        + mmuext(UNPIN, own(1)))
    # linear page tables: the L4 names itself, then another pinned L4
    seeds["linear"] = (
        mmu(entry(own(1), 5), pte(RO, own(1)))
        + mmuext(PIN_L4, spare(12))
        + mmu(entry(own(1), 6), pte(RO, spare(12)))
        + mmu(entry(spare(12), 1), pte(RO, own(1)))
        + mmuext(UNPIN, spare(12)))
    # writable page tables: a store to the L1 through its read-only mapping
    seeds["ptwr"] = (
        op(PTWR) + u8(0) + own(4) + u16(0x80) + pte(RW, data(30)) + pte(RW, data(30))
        + op(PTWR) + u8(0) + own(4) + u16(0x18) + pte(RW, own(3)) + pte(RW, own(3))
        + op(UVA) + va(data(30)) + pte(RW, spare(7)) + u8(1))
    # the balloon: give back a data frame, map it, take it again
    seeds["balloon"] = (
        op(MEM) + u8(0) + u8(1) + data(40)
        + op(UVA) + va(data(41)) + pte(RO, data(40)) + u8(0)
        + op(MEM) + u8(1) + u8(1) + data(40)
        + op(MEM) + u8(0) + u8(1) + own(4))
    # descriptors and a GDT on a page, then that page as a table
    seeds["gdt"] = (
        op(DESC) + u8(1) + data(22) + u16(8)
        + op(GDT) + data(22) + data(23) + u16(20)
        + mmuext(PIN_L1, data(22)))
    # regression (bug 1): frame 0 loaded as the base pointer leaked its
    # reference (keeld's books take kernel_cr3 0 for "none")
    # reference (keeld's books take kernel_cr3 0 for "none"): frame 0
    # becomes a copy of the L4, read-only, then is loaded and replaced
    COPY_PAGE = 9
    seeds["regress-baseptr-frame0"] = (
        mmuext(COPY_PAGE, own(0), own(1))
        + op(UVA) + va(own(0)) + pte(RO, own(0)) + u8(0)
        + mmuext(BASEPTR, own(0)) + mmuext(BASEPTR, own(1)))
    # a multicall of a pin, a base pointer and a nested multicall
    seeds["multicall"] = (
        op(10) + u8(2) + u8(EXT) + u8(0) + u8(PIN_L4) + spare(13) + own(0)
        + u8(EXT) + u8(0) + u8(BASEPTR) + spare(13) + own(0) + u8(0xff))
    return seeds


def gnt_seeds():
    # pv_gnttab_fuzz's list: 0 grant entry, 1 map, 2 unmap, 3 copy,
    # 4 table op, 5 entry, 6 map, 7 mmuext, 8 update_va_mapping,
    # 9 mmu_update, 10 memory_op, 11 ptwr, 12 store
    ENTRY, MAP, UNMAP, COPY, TABLE = range(5)
    EXT, UVA, MMU, MEM = 7, 8, 9, 10
    def grant(ref, frame, flags=0, dom=1):  # the granter (domain 1) grants
        return op(ENTRY, dom) + u8(ref) + u8(flags) + OTHER + frame
    def gmap(ref, how, where, dom=0):
        # how: 0x11 host rw, 0x15 host ro, 0x08|0x10 device, 0x01 contains_pte
        return op(MAP, dom) + u8(0) + u8(how) + where + u8(ref) + OTHER
    def unmap(h, host, dom=0, by_pte=False):
        return op(UNMAP, dom) + u8(4 if by_pte else 0) + u8(h) + host
    def set_version(v, dom):  # b % 7 == 1 selects it, (b >> 3) % 4 the version
        return op(TABLE, dom) + u8({1: 8, 2: 22}[v])
    seeds = {}
    seeds["map-unmap"] = (grant(0, data(20)) + gmap(0, 0x11, va(data(26)))
                          + unmap(0, va(data(26))))
    # a writable map, then the granter tries to make the frame a table,
    # give it back, and the mapper aliases the window frame
    seeds["map-hostile"] = (
        grant(1, data(21)) + gmap(1, 0x11, va(data(27)))
        + op(EXT, 1) + u8(0) + u8(0) + data(21) + own(0)
        + op(MEM, 1) + u8(0) + u8(1) + data(21)
        + op(UVA) + va(data(28)) + pte(RW, window(0)) + u8(0)
        + op(MMU) + u8(0) + u8(0) + entry(own(4), 9) + pte(RW, window(0)) + u8(0) + u8(1))
    # a map by PTE address, read-only and device maps, unmap_and_replace
    seeds["map-forms"] = (
        grant(10, data(22)) + grant(3, data(23), flags=1)
        + gmap(10, 0x01, entry(own(4), 12))
        + gmap(3, 0x15, va(data(29)))
        + gmap(10, 0x18, va(data(30)))
        + op(UNMAP) + u8(1) + u8(1) + va(data(29)) + va(data(31))
        + unmap(0, entry(own(4), 12), by_pte=True))
    # copies between the two, by frame and by reference
    seeds["copy"] = (
        grant(4, data(24)) + grant(5, data(25), flags=1)
        # 1 KiB from our frame 32 into their ref 4; 512 bytes of ref 5 to frame 33
        + op(COPY) + u8(0x42) + u8(0) + data(32) + SELF_ID + u8(0) + u8(4) + OTHER
        + op(COPY) + u8(0x21) + u8(0) + u8(5) + OTHER + u8(0) + data(33) + SELF_ID)
    # version 2: entries, status frames mapped, back to version 1 refused
    seeds["v2"] = (
        set_version(2, 1) + grant(9, data(26)) + gmap(9, 0x11, va(data(34)))
        + op(TABLE, 1) + u8(9)  # get_status_frames, one
        + op(UVA, 1) + va(data(35)) + pte(RW, status_frame(0)) + u8(0)
        + set_version(1, 1)
        + op(UVA, 1) + va(data(35)) + pte(NP, own(0)) + u8(0)
        + set_version(1, 1))
    # setup_table and the grant frame mapped by its owner
    seeds["setup"] = (
        op(TABLE, 1) + u8(0x85) + u8(1)  # setup_table, 2 frames
        + op(UVA, 1) + va(data(36)) + pte(RW, gframe(1)) + u8(0))
    return seeds


def evt_seeds():
    # pv_evtchn_fuzz's list: 0..2 evtchn op, 3 virq, 4 store, 5 memory_op,
    # 6 mmuext, 7 evtchn op
    EV, VIRQ, STORE, MEM, EXT = 0, 3, 4, 5, 6
    def ev(cmd, body, dom=0): return op(EV, dom) + u8(cmd) + body
    BIND_IDOM, BIND_VIRQ, CLOSE, SEND, STATUS, ALLOC, IPI, VCPU, UNMASK, RESET = \
        0, 1, 3, 4, 5, 6, 7, 8, 9, 10
    INIT, EXPAND, PRIO = 11, 12, 13
    seeds = {}
    seeds["interdomain"] = (
        ev(ALLOC, u8(1) + OTHER, dom=1)           # port 1 of domain 1, for domain 0
        + ev(BIND_IDOM, OTHER + u8(1))            # domain 0 binds it
        + ev(SEND, u8(1)) + ev(SEND, u8(1), dom=1)
        + ev(VCPU, u8(1) + u8(1)) + ev(STATUS, SELF_ID + u8(1))
        + ev(CLOSE, u8(1), dom=1) + ev(SEND, u8(1)))
    seeds["virq-ipi"] = (
        ev(BIND_VIRQ, u8(0) + u8(0)) + ev(BIND_VIRQ, u8(1) + u8(1))
        + ev(IPI, u8(1)) + op(VIRQ) + u8(0) + u8(0) + op(VIRQ) + u8(1) + u8(1)
        + ev(SEND, u8(3)) + ev(UNMASK, u8(1)) + ev(CLOSE, u8(2)))
    seeds["fifo"] = (
        ev(BIND_VIRQ, u8(0) + u8(0)) + ev(ALLOC, u8(1) + OTHER)
        + ev(INIT, data(20) + u8(0) + u8(0))
        + ev(EXPAND, data(21))
        + ev(PRIO, u8(1) + u8(3))
        + op(VIRQ) + u8(0) + u8(0)
        + op(STORE) + data(21) + u8(0) + u32(0) + u16(0)
        + ev(INIT, data(22) + u8(2) + u8(1))
        + ev(RESET, SELF_ID)
        + op(EXT) + u8(0) + u8(0) + data(20) + own(0))
    # regression (bug 2): EVTCHNOP_reset kept the FIFO pages' references
    seeds["regress-reset-fifo-refs"] = (
        ev(INIT, data(30) + u8(0) + u8(0)) + ev(EXPAND, data(31))
        + ev(RESET, SELF_ID))
    seeds["fifo-balloon"] = (
        ev(INIT, data(23) + u8(0) + u8(0))
        + op(MEM) + u8(0) + u8(1) + data(23)
        + ev(EXPAND, data(24)) + ev(EXPAND, data(24)))
    return seeds


def main():
    for target, seeds in (("pv_mm_fuzz", mm_seeds()), ("pv_gnttab_fuzz", gnt_seeds()),
                          ("pv_evtchn_fuzz", evt_seeds())):
        d = os.path.join(TOP, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data_ in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data_)
    return 0


if __name__ == "__main__":
    sys.exit(main())
