from amocrm_emulator.cli import main

main()
