//go:build amd64 && !purego

#include "textflag.h"

// MASK16 classifies the 16 bytes in X0: R12 gets a bit per '\n' byte, R13
// a bit per byte that may not appear in a header key (below 0x21, 0x7f and
// up, or ':').
#define MASK16 \
	MOVO    X0, X5 \
	PCMPEQB X1, X5 \
	PMOVMSKB X5, R12 \
	MOVO    X0, X6 \
	PCMPGTB X3, X6 \
	MOVO    X0, X7 \
	PCMPEQB X2, X7 \
	PCMPEQB X4, X0 \
	POR     X0, X7 \
	PANDN   X6, X7 \
	PMOVMSKB X7, R13 \
	XORL    $0xffff, R13

// func lineMasks(src *byte, n int, nl, nk *uint64)
//
// n is in [16, 64*8]. Bit i of the little-endian bit string at nl (nk) is
// set when src[i] is '\n' (not a key byte), for i < n. Words past the last
// one holding bit n-1 are not written; bits n and up of that word are zero.
TEXT ·lineMasks(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ n+8(FP), BX
	MOVQ nl+16(FP), DI
	MOVQ nk+24(FP), DX

	MOVQ $0x0a0a0a0a0a0a0a0a, AX
	MOVQ AX, X1
	PUNPCKLQDQ X1, X1
	MOVQ $0x3a3a3a3a3a3a3a3a, AX
	MOVQ AX, X2
	PUNPCKLQDQ X2, X2
	MOVQ $0x2020202020202020, AX
	MOVQ AX, X3
	PUNPCKLQDQ X3, X3
	MOVQ $0x7f7f7f7f7f7f7f7f, AX
	MOVQ AX, X4
	PUNPCKLQDQ X4, X4

	LEAQ (SI)(BX*1), R10 // end of input
	LEAQ -64(R10), R11   // last start of a whole 64-byte block

block:
	CMPQ SI, R11
	JGT  chunks
	MOVOU 0(SI), X0
	MASK16
	MOVQ R12, R8
	MOVQ R13, R9
	MOVOU 16(SI), X0
	MASK16
	SHLQ $16, R12
	SHLQ $16, R13
	ORQ  R12, R8
	ORQ  R13, R9
	MOVOU 32(SI), X0
	MASK16
	SHLQ $32, R12
	SHLQ $32, R13
	ORQ  R12, R8
	ORQ  R13, R9
	MOVOU 48(SI), X0
	MASK16
	SHLQ $48, R12
	SHLQ $48, R13
	ORQ  R12, R8
	ORQ  R13, R9
	MOVQ R8, (DI)
	MOVQ R9, (DX)
	ADDQ $64, SI
	ADDQ $8, DI
	ADDQ $8, DX
	JMP  block

chunks:
	// Fewer than 64 bytes left: whole 16-byte chunks, then the tail.
	CMPQ SI, R10
	JEQ  done
	XORQ R8, R8
	XORQ R9, R9
	XORQ CX, CX          // bit position of the chunk in the word
	LEAQ -16(R10), R11   // last start of a whole chunk

chunk:
	CMPQ SI, R11
	JGT  tail
	MOVOU (SI), X0
	MASK16
	SHLQ CX, R12
	SHLQ CX, R13
	ORQ  R12, R8
	ORQ  R13, R9
	ADDQ $16, SI
	ADDQ $16, CX
	JMP  chunk

tail:
	// 1 to 15 bytes left (or none): classify the last 16 bytes of the
	// input and drop the bits of the bytes already done. n >= 16 makes
	// that load safe.
	MOVQ SI, AX
	SUBQ R11, AX         // 16 - bytes left
	CMPQ AX, $16
	JEQ  store
	MOVOU (R11), X0
	MASK16
	MOVQ CX, BX
	MOVQ AX, CX
	SHRQ CX, R12
	SHRQ CX, R13
	MOVQ BX, CX
	SHLQ CX, R12
	SHLQ CX, R13
	ORQ  R12, R8
	ORQ  R13, R9

store:
	MOVQ R8, (DI)
	MOVQ R9, (DX)

done:
	RET
