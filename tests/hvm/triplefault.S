/*
 * A tiny 32-bit HVM payload that triple-faults, as SeaBIOS resets a
 * machine: an undefined instruction with an IDT of not-present gates
 * (the reset IDT at 0, whose RAM is zero) escalates to a double fault
 * and then a triple fault.  Xen shuts the domain down with
 * HVM_PARAM_TRIPLE_FAULT_REASON, reboot by default
 * (tests/integration/hvm-hvmloader.sh builds and checks it).
 */
	.code32
	.text
	.globl _start
_start:
	ud2
1:	hlt
	jmp 1b
