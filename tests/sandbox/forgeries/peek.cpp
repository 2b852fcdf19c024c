// Peeker (stdio): the first 256 bytes of every small world-readable file in DIR/*/*.
// A candidate program, read as text by the forgery tests (see ../forgeries_support.py).

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace fs = std::filesystem;

int main() {
    std::string dir;
    long count = 0;
    const fs::directory_iterator end;
    while (std::getline(std::cin, dir) && count < 2000) {
        if (dir.empty()) continue;
        std::error_code ec;
        for (fs::directory_iterator a(dir, fs::directory_options::skip_permission_denied, ec); !ec && a != end;
             a.increment(ec)) {
            std::error_code e2;
            if (!a->is_directory(e2) || e2) continue;
            for (fs::directory_iterator b(a->path(), fs::directory_options::skip_permission_denied, e2);
                 !e2 && b != end && count < 2000; b.increment(e2)) {
                std::error_code e3;
                if (!b->is_regular_file(e3) || e3 || b->file_size(e3) > 65536 || e3) continue;
                std::ifstream in(b->path(), std::ios::binary);
                if (!in) continue;
                char buf[256];
                in.read(buf, sizeof buf);
                std::string head(buf, static_cast<size_t>(in.gcount()));
                for (char& c : head)
                    if (c < 32 || c > 126) c = '?';
                std::cout << b->path().string() << '\t' << head << '\n';
                ++count;
            }
        }
    }
    return 0;
}
