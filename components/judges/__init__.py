"""Audio-language models (Qwen2-Audio, Qwen2.5-Omni, Audio Flamingo 3) as listener, captioner and critic."""
