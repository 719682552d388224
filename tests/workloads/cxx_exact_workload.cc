// SPDX-License-Identifier: GPL-2.0-or-later
//
// A C++ workload built with the host's plain g++ (dynamic, PIE, libstdc++)
// for tests/guest/debian_userland.sh: a page-aligned 16 KiB buffer it owns
// (operator new with std::align_val_t), filled with std::fill, then a fixed
// set of accesses made by inline assembly, so the compiler adds or removes
// none.  Workload info: "ADDR LEN" of the buffer, written with std::cout.
// Expected records: in debian_userland.sh (expected_cxx); keep them in step.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <new>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kLen = 16384;

// Repeat one instruction N times in a loop whose only memory access is
// that instruction.  %rdi = buffer, %ecx = counter.
#define LOOP(p, n, insn)                                                   \
    __asm__ volatile("mov %[cnt], %%ecx\n1:\n\t" insn "\n\tdec %%ecx\n\tjnz 1b" \
                     : : [cnt] "i"(n), "D"(p) : "rax", "rcx", "memory", "cc")

}  // namespace

int main()
{
    auto *buf = static_cast<unsigned char *>(
        ::operator new(kLen, std::align_val_t(4096)));
    std::fill(buf, buf + kLen, 0x22);   // touch every page
    std::vector<std::string> words{"memory", "tracer"};
    std::cout << "-----begin workload info-----" << static_cast<void *>(buf)
              << ' ' << kLen << "-----end workload info-----" << std::endl;
    std::cout << "Ready to trace. Press enter to continue" << std::endl;
    std::getchar();

    LOOP(buf, 1000, "movl (%%rdi), %%eax");         // +0   load 4
    LOOP(buf, 700, "movq %%rax, 8(%%rdi)");         // +8   store 8
    LOOP(buf, 300, "movzbl 16(%%rdi), %%eax");      // +16  load 1
    LOOP(buf, 200, "movw %%ax, 20(%%rdi)");         // +20  store 2
    LOOP(buf, 50, "movl $1, %%eax\n\tlock xaddl %%eax, 128(%%rdi)");
                                                    // +128 load+store 4

    std::cout << "Stop tracing" << std::endl;
    ::operator delete(buf, std::align_val_t(4096));
    return words.size() == 2 ? 0 : 1;
}
