/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Lists the tree under its working directory (or argv[1]) as
 * "TYPE MODE SIZE CRC32 PATH" lines (d: directory, f: file with the
 * zlib CRC-32 of its bytes, l: link with the CRC-32 of its target), sorted
 * by path: what --copy_to_guest sent must arrive identical.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t table[256];

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    }
    return ~crc;
}

static char **lines;
static size_t nlines, cap;

static void add(char *line)
{
    if (nlines == cap) {
        cap = cap ? cap * 2 : 64;
        lines = realloc(lines, cap * sizeof(*lines));
    }
    lines[nlines++] = line;
}

static void walk(const char *dir, const char *rel)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) {
        perror(dir);
        exit(1);
    }
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            (!*rel && !strcmp(e->d_name, "executable2"))) {
            continue;
        }
        char path[8192], r[8192], *line;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        snprintf(r, sizeof(r), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        struct stat st;
        if (lstat(path, &st) < 0) {
            perror(path);
            exit(1);
        }
        uint32_t crc = 0;
        char type = 'f';
        if (S_ISDIR(st.st_mode)) {
            type = 'd';
        } else if (S_ISLNK(st.st_mode)) {
            char t[4096];
            ssize_t n = readlink(path, t, sizeof(t));
            type = 'l';
            crc = crc32_update(0, (unsigned char *)t, n > 0 ? (size_t)n : 0);
        } else {
            static unsigned char buf[65536];
            int fd = open(path, O_RDONLY);
            ssize_t n;
            while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0) {
                crc = crc32_update(crc, buf, (size_t)n);
            }
            close(fd);
        }
        if (asprintf(&line, "%c %04o %lld %08x %s", type,
                     (unsigned)(st.st_mode & 07777),
                     type == 'f' ? (long long)st.st_size : 0LL, crc, r) < 0) {
            exit(1);
        }
        add(line);
        if (type == 'd') {
            walk(path, r);
        }
    }
    closedir(d);
}

static int by_path(const void *a, const void *b)
{
    const char *x = strchr(strchr(strchr(strchr(*(char *const *)a, ' ') + 1,
                                         ' ') + 1, ' ') + 1, ' ') + 1;
    const char *y = strchr(strchr(strchr(strchr(*(char *const *)b, ' ') + 1,
                                         ' ') + 1, ' ') + 1, ' ') + 1;
    return strcmp(x, y);
}

int main(int argc, char **argv)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        table[i] = c;
    }
    walk(argc > 1 ? argv[1] : ".", "");
    qsort(lines, nlines, sizeof(*lines), by_path);
    for (size_t i = 0; i < nlines; i++) {
        printf("%s\n", lines[i]);
    }
    return 0;
}
